fn main() {
    println!("capstan");
}
