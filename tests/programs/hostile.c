/* Strings that look like markup or terminal control, everywhere a crash can carry them:
 * [bold]source[/bold] text, arr[i], [/], [@click=app.quit]quit[/] and an ESC: ]0;pwned */
#include <string.h>
#include <sys/prctl.h>

struct record { char label[32]; const char *note; int arr[3]; };

static int explode(struct record *r, int i)
{
	int *nothing = 0;	/* indented with a tab, kernel style */
    return r->arr[i] + *nothing; /* arr[i] [/] [@click=app.quit] */
}

int main(void)
{
    struct record r;
    strcpy(r.label, "[red]alarm[/red]\033]0;t\007");
    r.note = "[@click=app.quit]quit[/] [$accent]x[/]";
    r.arr[0] = 1; r.arr[1] = 2; r.arr[2] = 3;
    prctl(PR_SET_NAME, "[b]x\033[31m", 0, 0, 0);
    return explode(&r, 1);
}
