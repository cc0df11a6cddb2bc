#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oma_im::fuzzing::im_client::im_client_events(data));
