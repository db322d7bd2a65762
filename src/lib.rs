//! burnish
