#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oma_im::fuzzing::run("msrp_session_events", data));
