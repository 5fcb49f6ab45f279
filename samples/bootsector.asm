; vmafs test boot sector (MBR code area, < 440 bytes).
;
; Proves a guest booted from a disk served by vmafs and could read far into it: prints a greeting,
; reads one sector at MARKER_LBA with BIOS int 13h extended read (deep into the disk, so the read
; crosses clusters the archive stores out of order), prints the NUL-terminated text found there,
; then "vmafs-boot-ok" (or "vmafs-boot-fail"), and powers off through QEMU's isa-debug-exit port.
; Output goes to COM1 (QEMU -serial) and the screen.
;
; With -DWRITE_LBA=<lba> it then writes that sector back at WRITE_LBA (int 13h extended write)
; and prints "vmafs-boot-wrote": the end-to-end tests use it to check where guest writes land.
;
; Build: nasm -f bin -DMARKER_LBA=<lba> [-DWRITE_LBA=<lba>] -o boot.bin bootsector.asm

%ifndef MARKER_LBA
%define MARKER_LBA 120000
%endif

        bits 16
        org 0x7c00

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov [drive], dl            ; BIOS passes the boot drive in DL; save it before DX is used

        mov si, hello
        call print

        mov si, dap
        mov ah, 0x42               ; extended read (LBA)
        mov dl, [drive]
        int 0x13
        jc .fail

        mov byte [0x8000 + 511], 0 ; never print past the sector
        mov si, 0x8000
        call print
        mov si, newline
        call print
%ifdef WRITE_LBA
        ; Write the sector just read to WRITE_LBA (int 13h extended write): with -snapshot or a
        ; qcow2 overlay the write must land there, never in the read-only image underneath.
        mov dword [dap + 8], WRITE_LBA
        mov dword [dap + 12], 0
        mov si, dap
        mov ax, 0x4300             ; extended write, no verify
        mov dl, [drive]
        int 0x13
        jc .fail
        mov si, wrote
        call print
%endif
        mov si, ok
        call print
        mov al, 0                  ; isa-debug-exit: qemu exits with status (0 << 1) | 1 = 1
        jmp .exit
.fail:
        mov si, fail
        call print
        mov al, 1                  ; qemu exits with status 3
.exit:
        out 0xf4, al
.halt:
        hlt
        jmp .halt

; print the NUL-terminated string at DS:SI to COM1 and the screen
print:
        lodsb
        test al, al
        jz .done
        push ax
        mov dx, 0x3fd              ; COM1 line status: wait for an empty transmit register
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, 0x3f8
        out dx, al
        mov ah, 0x0e               ; BIOS teletype, page 0
        xor bx, bx
        int 0x10
        jmp print
.done:
        ret

drive:  db 0
hello:  db "vmafs-boot: booted, reading LBA ", 0
newline: db 13, 10, 0
ok:     db "vmafs-boot-ok", 13, 10, 0
%ifdef WRITE_LBA
wrote:  db "vmafs-boot-wrote", 13, 10, 0
%endif
fail:   db "vmafs-boot-fail", 13, 10, 0

        align 4
dap:    db 0x10, 0                 ; size of this packet, reserved
        dw 1                       ; sectors to read
        dw 0x8000, 0x0000          ; buffer offset, segment
        dq MARKER_LBA              ; first sector

        times 440 - ($ - $$) db 0  ; the partition table follows at 446; 440..445 are the disk id
