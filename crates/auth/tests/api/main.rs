//! The auth API over real HTTP, against an app bound to port 0, on SQLite and on PostgreSQL.

mod helpers;

mod account;
mod current_user;
mod database_outage;
mod errors;
mod events;
mod input;
mod password_reset;
mod signin;
mod signout;
mod signup;
mod verify_email;
