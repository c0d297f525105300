"""SMS delivery behind an interface (services.signin.SmsSender), chosen by SMS_BACKEND.

"log": development and demo only — writes the message to the `lvtong.sms.dev` logger instead of a phone.
"module.path:ClassName": a provider adapter (e.g. Aliyun or Tencent Cloud SMS) constructed with the app config.
"""
from __future__ import annotations

import importlib
import logging

from flask import Flask

from .services.accounts.identity import mask_mobile
from .services.accounts.signin import SmsSender


class LogSender(SmsSender):
    def __init__(self, config: dict | None = None):
        self.log = logging.getLogger("lvtong.sms.dev")

    def send(self, mobile: str, text: str) -> None:
        self.log.info("SMS to %s: %s", mask_mobile(mobile), text)


def sender_for(app: Flask) -> SmsSender:
    name = app.config.get("SMS_BACKEND") or "log"
    if name == "log":
        if not app.config.get("DEMO_MODE"):
            raise RuntimeError("SMS_BACKEND=log is for development and demo only; configure a provider")
        return LogSender()
    module, _, cls = name.partition(":")
    return getattr(importlib.import_module(module), cls)(app.config)
