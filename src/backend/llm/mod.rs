//! Language model clients: Ollama through ollama-rs.

pub mod ollama;
