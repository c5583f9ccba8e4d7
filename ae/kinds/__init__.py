"""The model kinds: each module here implements ae.models.Model for one kind of artifact and registers itself."""
