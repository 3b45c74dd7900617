//! Kubernetes resource quantities (`250m`, `2`, `1500000n`, `16Gi`, `123456Ki`) as numbers,
//! for the node usage figures.

/// CPU in millicores.
pub fn cpu_millis(text: &str) -> Option<u64> {
    scaled(text, 1000.0)
}

/// Memory (or any byte count) in bytes.
pub fn bytes(text: &str) -> Option<u64> {
    scaled(text, 1.0)
}

/// `text` times `unit`, with the decimal and binary suffixes of resource.Quantity.
fn scaled(text: &str, unit: f64) -> Option<u64> {
    const SUFFIXES: [(&str, f64); 16] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("", 1.0),
    ];
    let text = text.trim();
    SUFFIXES.iter().find_map(|(suffix, factor)| {
        let number: f64 = text.strip_suffix(suffix)?.parse().ok()?;
        (number >= 0.0).then(|| (number * factor * unit).round() as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_nodes_and_metrics_report() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("20"), Some(20_000));
        assert_eq!(cpu_millis("1500000n"), Some(2));
        assert_eq!(bytes("16Gi"), Some(17_179_869_184));
        assert_eq!(bytes("123456Ki"), Some(126_418_944));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("lots"), None);
    }
}
