"""Messages from HQ to members: expiry reminders and segment broadcasts, sent through a channel
(LINE notification messages, an SMS gateway) by a background worker, only to members who
consented and did not opt out, with every delivery's result recorded (docs/hq-console.md).
"""
