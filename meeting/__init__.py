"""The rules of a People's Council session as pure state machines: no I/O, no clock, no randomness.

Only the standard library and msgspec are imported here. See README.md ("The model") for the plain-words
account and the legal sources.
"""
