"""The Subscription dock: plan page, referral panel, partner dashboard and the billing admin."""
