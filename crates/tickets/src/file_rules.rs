//! What a ticket's file may be: a PDF, PNG or JPEG of at most 5 MB whose bytes are what its
//! `Content-Type` says. Three fixed signatures are all it takes, so no file-type crate is used.

/// The largest ticket file accepted.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The kinds of file a ticket can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
}

impl FileKind {
    /// The kind a `Content-Type` names (its parameters, such as `; charset=`, ignored).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/pdf" => Some(Self::Pdf),
            "image/png" => Some(Self::Png),
            "image/jpeg" => Some(Self::Jpeg),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The file name a download suggests.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }

    /// Whether `bytes` begin as a file of this kind does: `%PDF-`, PNG's eight-byte signature,
    /// or JPEG's start-of-image marker followed by another marker.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Self::Pdf => bytes.starts_with(b"%PDF-"),
            Self::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_knows_its_own_bytes_only() {
        let pdf = b"%PDF-1.7\n...".as_slice();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".as_slice();
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10].as_slice();
        for (kind, own) in [
            (FileKind::Pdf, pdf),
            (FileKind::Png, png),
            (FileKind::Jpeg, jpeg),
        ] {
            for other in [pdf, png, jpeg, b"".as_slice(), b"<html>".as_slice()] {
                assert_eq!(kind.matches(other), other == own, "{kind:?}");
            }
        }
    }

    #[test]
    fn content_types_are_read_without_their_parameters() {
        assert_eq!(
            FileKind::from_content_type("Application/PDF; name=x"),
            Some(FileKind::Pdf)
        );
        assert_eq!(FileKind::from_content_type("image/gif"), None);
        assert_eq!(FileKind::from_content_type(""), None);
    }
}
