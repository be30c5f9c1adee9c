//! End-to-end tests of the whole stack; see main.rs.
