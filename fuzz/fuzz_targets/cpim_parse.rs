#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oma_im::fuzzing::mime::cpim_parse(data));
