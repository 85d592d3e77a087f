// Limits: placeholder until its first file lands.
