"""The account UI: the sync status indicator of the status bar and the Account dialog."""
