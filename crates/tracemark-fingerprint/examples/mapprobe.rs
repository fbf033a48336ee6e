//! Development probe: `mapprobe ORIGINAL.f32 LEAK.f32` (raw 8 kHz mono f32 little-endian)
//! prints the query's best candidates and the authenticity map.
fn read(path: &str) -> Vec<f32> {
    std::fs::read(path)
        .expect("read")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let original = tracemark_fingerprint::fingerprint(&read(&args[1])).expect("fp");
    let leak = tracemark_fingerprint::fingerprint(&read(&args[2])).expect("fp");
    let mut index = tracemark_fingerprint::Index::new();
    index.add(1, original.clone()).expect("add");
    for c in index.query(&leak).iter().take(3) {
        println!("{c:?}");
    }
    let map = tracemark_fingerprint::authenticity_map(
        &original,
        &leak,
        &tracemark_fingerprint::MapOptions::default(),
    );
    println!("{map:#?}");
}
