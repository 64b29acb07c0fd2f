//! Integration tests live in e2e/.
