"""End of contract (R25, R30): `ycc export` hands everything over, `ycc purge` then erases it and certifies that.

tables.py decides what leaves the building, export.py writes and verifies the archive, running.py tells whether a
gateway still uses the database, purge.py erases, certificate.py writes the データ消去証明書, cli.py wires `ycc`.
"""
