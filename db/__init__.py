"""Database layer: models, migrations, named SQL and the local PostGIS runner. Imports no Flask."""
