"""Pure geometry and analytics: arrays and Shapely geometries in, arrays and geometries out.

No database and no web here. Every function says its CRS and units.
"""
