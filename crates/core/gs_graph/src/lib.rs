//! Entity resolution, graph and typology rules (being written).
