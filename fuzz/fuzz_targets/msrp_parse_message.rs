#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oma_im::fuzzing::msrp::msrp_parse_message(data));
