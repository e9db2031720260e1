"""The built-in stores, each a plugin registered like a third-party one."""
