// DataLayer: placeholder until its first file lands.
