"""Operations endpoints: health probe and Prometheus metrics."""
