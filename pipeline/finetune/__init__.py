"""Fine-tuning heads on the Pangolin backbone: site classes and usage from your own tracks."""
