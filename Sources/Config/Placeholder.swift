// Config: placeholder until its first file lands.
