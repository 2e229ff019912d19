"""The metadata every HQ table is declared on, and the id type they share: apart from
sync.hq.schema so the console's tables (sync.hq.console_schema) can be declared in their own
module without importing the schema that re-exports them."""

from sqlalchemy import MetaData, String

ID = String(64)  # ULIDs are 26 characters; branch ids and keys are short too
metadata = MetaData()
