"""HQ's web console: operator accounts, browser sessions and the pages HQ staff read.

`pages.install` wires it into the app; `accounts` is also what the `hq user` commands use, so
this package's top level imports nothing heavy.
"""
