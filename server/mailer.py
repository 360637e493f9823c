"""Outgoing mail: the console in development (the message goes to the log and to ``sent``),
SMTP with STARTTLS in production."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

log = logging.getLogger("stockscanner.server.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


@dataclass
class ConsoleMailer:
    """Development mailer: logs each message; ``sent`` keeps them (tests read the links)."""

    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)
        log.warning("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    user: str
    password: str
    sender: str

    def send(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, mail.to, mail.subject
        msg.set_content(mail.body)
        with smtplib.SMTP(self.host, self.port, timeout=15) as smtp:
            smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(msg)
