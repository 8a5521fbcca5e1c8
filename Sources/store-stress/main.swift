// Replaced by the reliability suite's workload driver.
print("store-stress")
