// Gateway: placeholder until its first file lands.
