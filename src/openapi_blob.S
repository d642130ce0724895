/*
 * openapi_blob: src/openapi.json embedded in the binary, so the service
 * serves the document it was built with and needs no data file at run time.
 */
	.section .rodata
	.global finicom_openapi_start
	.global finicom_openapi_end
finicom_openapi_start:
	.incbin OPENAPI_JSON
finicom_openapi_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
