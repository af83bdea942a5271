//! Directive table (being written).
