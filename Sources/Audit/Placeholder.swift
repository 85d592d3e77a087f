// Audit: placeholder until its first file lands.
