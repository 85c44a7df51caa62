//! Tests of the deployment files: deploy/ (Prometheus, Grafana, HAProxy,
//! docker-compose, Kubernetes), the Dockerfile and scripts/staging. They run the
//! real tools (Debian's prometheus/promtool, haproxy, docker-compose, PyPI's
//! kubernetes-validate) and fail, naming the package, when one is missing;
//! scripts/test installs them when run as root.

mod common;
mod compose;
mod docker;
mod docs;
mod grafana;
mod kubernetes;
mod prometheus;
mod staging;
