#define PE_GIT_REV "74d960eb3a4a"
