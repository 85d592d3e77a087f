// Auth: placeholder until its first file lands.
