#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::response_stream::check(data));
