//! statutory
