"""The editorial write API (`/v1/admin`): CRUD, workflow, revisions, audit, import/export."""
