"""Formats: domain in, text or bytes out; imports domain and ports only.

TOML policies and mappings, item files (JSON Lines, CSV), OpenDSR, iCalendar, JSON,
access reports, letters, check reports and the documents generated from the policy.
Never imports services, stores or the CLI.
"""
