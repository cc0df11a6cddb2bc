#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oma_im::fuzzing::run("group_session", data));
