//! The error of a wrong setting, shared by the modules that read settings
//! (config, catalogue, pg) so none of them imports another for it.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config key `{key}`: `{value}` is not valid; expected {expected}")]
    Invalid {
        key: String,
        value: String,
        expected: String,
    },
    #[error("config key `{key}` is missing; {fix}")]
    Missing { key: String, fix: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}
