"""kafkalab: see Kafka's delivery guarantees."""
