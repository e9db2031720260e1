"""Services: the workspace facade and every operation; imports domain, ports and formats.

The sweep, data-subject requests, consents, guards, disclosures, the agenda and checks,
written against :mod:`~praclox_privacy.ports` only: never a store, SQLAlchemy or click.
"""
