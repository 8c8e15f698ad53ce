//! Orders through the real action queue, store and sandbox payment gateway.

mod lifecycle;
