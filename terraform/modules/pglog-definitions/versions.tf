terraform {
  # No provider: everything here is plain values, so it is planned, applied
  # and tested offline (`terraform test`).
  required_version = ">= 1.6"
}
