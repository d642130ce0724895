/*
 * common_passwords_blob: src/util/common-passwords.txt (the 10,000 most
 * common passwords) embedded in the binary, so every program that sets a
 * password checks the list it was built with and needs no data file.
 */
	.section .rodata
	.global finicom_common_passwords_start
	.global finicom_common_passwords_end
finicom_common_passwords_start:
	.incbin COMMON_PASSWORDS_TXT
finicom_common_passwords_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
