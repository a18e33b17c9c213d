"""The privacy gate: what leaves the session, to whom, blurred how, and its audit log.

Import from the modules: `gate` (PrivacyGate, Recipient), `settings`, `faces`, `audit`.
"""
