// Replaced by the reliability suites.
