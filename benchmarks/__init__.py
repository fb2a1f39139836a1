"""kafkalab's benchmarks (`make bench`): ratios measured side by side in one run."""
